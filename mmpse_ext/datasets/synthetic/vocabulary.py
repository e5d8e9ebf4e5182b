"""Words drawn on the synthetic scenes: sign-like words, numbers, and random strings."""
import string

import numpy as np

#: Short words typical of incidental scene text (shop signs, streets, notices).
SIGN_WORDS = (
    'OPEN',
    'SALE',
    'EXIT',
    'PARKING',
    'CAFE',
    'STREET',
    'HOTEL',
    'BANK',
    'STOP',
    'PHARMACY',
    'COFFEE',
    'BAKERY',
    'MARKET',
    'TAXI',
    'POLICE',
    'SCHOOL',
    'STATION',
    'CENTRE',
    'PLAZA',
    'FASHION',
    'SHOES',
    'BOOKS',
    'MUSIC',
    'PIZZA',
    'SUSHI',
    'NOODLE',
    'BAR',
    'GRILL',
    'DINER',
    'FRESH',
    'FOOD',
    'DRINKS',
    'SPECIAL',
    'OFFER',
    'FREE',
    'WIFI',
    'ENTRANCE',
    'LIFT',
    'TOILET',
    'PUSH',
    'PULL',
    'CLOSED',
    'WELCOME',
    'SERVICE',
    'REPAIR',
    'PHONE',
    'MOBILE',
    'STORE',
    'MALL',
    'CINEMA',
    'TICKETS',
    'GATE',
    'LEVEL',
    'FLOOR',
    'ROAD',
    'AVENUE',
    'LANE',
    'SQUARE',
    'PARK',
    'GARDEN',
    'TOWER',
    'CLINIC',
    'DENTAL',
    'OPTICAL',
    'BEAUTY',
    'SALON',
    'SPA',
    'GYM',
    'SPORT',
    'TRAVEL',
    'TOURS',
    'EXPRESS',
    'DELIVERY',
    'ORDER',
    'HERE',
    'NOW',
    'NEW',
    'BEST',
    'CITY',
    'NORTH',
    'SOUTH',
    'EAST',
    'WEST',
    'LINE',
    'BUS',
    'TRAIN',
    'METRO',
    'AIRPORT',
    'DEPARTURES',
    'Café',
    'Straße',
    'Zürich',
    'Crêpes',
    'Niño',
    'Ålesund',
    'Gâteau',
    'Müller',
)

#: Number-like tokens; several contain commas to exercise the ICDAR format's comma rule.
NUMBER_FORMATS = ('{a}', '{a}{b}', '${a}.{b:02d}', '{a},{b:03d}', '{a}%', '{a}/{b}', '24/7',
                  '{a}-{b}', 'No.{a}', '{a},{b:03d},{c:03d}', '#{a}')


def random_word(rng: np.random.Generator) -> str:
    """One token: a sign word (60 %), a number (20 %) or random letters (20 %), in a random
    case."""
    kind = rng.random()
    if kind < 0.6:
        word = SIGN_WORDS[rng.integers(len(SIGN_WORDS))]
    elif kind < 0.8:
        fmt = NUMBER_FORMATS[rng.integers(len(NUMBER_FORMATS))]
        return fmt.format(
            a=int(rng.integers(1, 999)), b=int(rng.integers(0, 999)), c=int(rng.integers(0, 999)))
    else:
        length = int(rng.integers(2, 9))
        word = ''.join(rng.choice(list(string.ascii_uppercase), size=length))
    case = rng.random()
    if case < 0.2:
        return word.lower()
    if case < 0.4:
        return word.capitalize()
    return word
